# مقياس UCLA للوحدة (3 أسئلة، Hughes et al. 2004) وسؤال ONS المباشر.
loneliness-intro = أسئلة قليلة عن شعورك. أرسل رقم إجابتك. نقرأ الردود في ساعات العمل؛ في أزمة: 9-8-8 أو 911.
# UCLA-3: project translation, pending validation.
ucla3-companionship = كم مرة تشعر أنك تفتقد الرفقة؟
# UCLA-3: project translation, pending validation.
ucla3-left-out = كم مرة تشعر أنك مُستبعَد؟
# UCLA-3: project translation, pending validation.
ucla3-isolated = كم مرة تشعر أنك معزول عن الآخرين؟
# ONS direct question: project translation, pending validation.
ons-lonely = كم مرة تشعر بالوحدة؟
