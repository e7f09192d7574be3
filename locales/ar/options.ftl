# خيارات الإجابة: النص المعروض، و`.synonyms` ما قد يكتبه العميل. الأرقام تعمل دائمًا،
# بالأرقام العربية (١ ٢ ٣) أو اللاتينية. التشكيل والهمزات والكشيدة لا تؤثر.
# لا يجوز أن يكون مرادف خيارٍ كلمةَ خيارٍ آخر في السؤال نفسه.

opt-yes = نعم
    .synonyms = ايوه, أيوة, أجل, بلى, طبعا, تمام, موافق, موافقة, أكيد, نعم شكرا, 👍
opt-no = لا
    .synonyms = لأ, كلا, لا شكرا, مش موافق, غير موافق
opt-not-yet = ليس بعد
    .synonyms = لسه, لسا, بعدين, قريبا, لاحقا, لم أذهب بعد, مش بعد

# UCLA-3 و ONS.
opt-hardly-ever = نادرًا
    .synonyms = نادرا, قليلا, ليس كثيرا, تقريبا لا
opt-some-of-the-time = أحيانًا
    .synonyms = احيانا, بعض الأحيان, بعض الوقت, مرات
opt-often = غالبًا
    .synonyms = غالبا, كثيرا, دائما, طول الوقت, كل الوقت
opt-often-always = غالبًا أو دائمًا
    .synonyms = غالبا, دائما, كثيرا, طول الوقت, كل الوقت
opt-occasionally = من حين لآخر
    .synonyms = من وقت لآخر, بين الحين والآخر
opt-never = أبدًا
    .synonyms = ابدا, إطلاقا, مطلقا, ولا مرة

# أنسب وقت.
opt-morning = الصباح
    .synonyms = صباحا, الصبح, صبح
opt-afternoon = بعد الظهر
    .synonyms = الظهر, العصر, ظهرا
opt-evening = المساء
    .synonyms = مساء, مساءً, الليل, ليلا
opt-any-time = أي وقت
    .synonyms = في أي وقت, لا يهم, كل الأوقات, مش مهم

# ما يهم الآن.
opt-lonely = الوحدة
    .synonyms = وحيد, وحيدة, وحدة
opt-bored = الملل
    .synonyms = ملل, زهقان, زهقانة, مليت
opt-disconnected = العزلة
    .synonyms = معزول, معزولة, منقطع, منقطعة, عزلة
opt-making-ends-meet = ضيق المال
    .synonyms = المال, فلوس, مصاريف, فواتير, ما في فلوس
opt-housing = السكن
    .synonyms = سكن, بيت, إيجار, شقة
opt-work = العمل
    .synonyms = شغل, عمل, وظيفة
opt-sad = الحزن
    .synonyms = حزين, حزينة, حزن, زعلان, زعلانة
opt-no-one-to-rely-on = لا سند لي
    .synonyms = لا أحد, ما في حدا, ما حدا, لا يوجد أحد
opt-getting-older = التقدم في السن
    .synonyms = العمر, كبر السن, الشيخوخة
opt-other = شيء آخر
    .synonyms = آخر, غير ذلك, شي ثاني

# ما منع الذهاب.
opt-transport = المواصلات
    .synonyms = النقل, الباص, الحافلة, بعيد, ما عندي سيارة, سيارة
opt-cost = التكلفة
    .synonyms = غالي, مكلف, السعر, فلوس, المال, الرسوم
opt-not-up-to-it = لم أكن بحال جيدة
    .synonyms = تعبان, تعبانة, متعب, متعبة, مريض, مريضة, مرهق
opt-not-welcome = لم أشعر بالترحيب
    .synonyms = غير مرحب, غير مرحب بي, ما ارتحت
opt-timing = التوقيت
    .synonyms = الوقت, ما عندي وقت, مشغول, مشغولة, الموعد

# الانتماء إلى المجتمع.
opt-very-strong = قوي جدًا
    .synonyms = قوي جدا
opt-somewhat-strong = قوي نوعًا ما
    .synonyms = قوي, قوي نوعا ما
opt-somewhat-weak = ضعيف نوعًا ما
    .synonyms = ضعيف, ضعيف نوعا ما
opt-very-weak = ضعيف جدًا
    .synonyms = ضعيف جدا

# الصحة النفسية.
opt-excellent = ممتازة
    .synonyms = ممتاز
opt-very-good = جيدة جدًا
    .synonyms = جيد جدا, جيدة جدا
opt-good = جيدة
    .synonyms = جيد, كويس, كويسة, منيحة, منيح
opt-fair = مقبولة
    .synonyms = مقبول, متوسطة, عادية, نص نص
opt-poor = سيئة
    .synonyms = سيء, سيئ, ضعيفة, مش كويسة, تعبانة

# How are things (holistic check-in).
opt-well = بخير
opt-so-so = متوسط
opt-not-well = لست بخير
