# ONS4 (الرفاه الشخصي).
wellbeing-intro = أربعة أسئلة عن حالك، من 0 (إطلاقًا) إلى 10 (تمامًا). نقرأ الردود في ساعات العمل؛ في أزمة: 9-8-8 أو 911.
# ONS4: project translation, pending validation.
ons4-satisfied = بشكل عام، ما مدى رضاك عن حياتك هذه الأيام؟ (0-10)
# ONS4: project translation, pending validation.
ons4-worthwhile = بشكل عام، إلى أي مدى تشعر أن ما تفعله في حياتك له قيمة؟ (0-10)
# ONS4: project translation, pending validation.
ons4-happy = بشكل عام، ما مدى شعورك بالسعادة أمس؟ (0-10)
# ONS4: project translation, pending validation.
ons4-anxious = من 0 "لست قلقًا إطلاقًا" إلى 10 "قلق تمامًا"، بشكل عام، ما مدى شعورك بالقلق أمس؟
