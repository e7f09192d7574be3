# أسئلة المسح الصحي للمجتمعات الكندية (CCHS).
belonging-intro = سؤالان قصيران عن مجتمعك وصحتك. نقرأ الردود في ساعات العمل؛ في أزمة: 9-8-8 أو 911.
# CCHS: project translation, pending validation.
cchs-belonging = كيف تصف شعورك بالانتماء إلى مجتمعك المحلي؟ هل هو:
# CCHS: project translation, pending validation.
cchs-mental-health = بشكل عام، كيف تصف صحتك النفسية؟
