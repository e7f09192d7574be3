# پرسش‌های پیمایش سلامت جوامع کانادا (CCHS).
belonging-intro = دو سؤال کوتاه درباره جامعه و سلامت شما. پاسخ‌ها در ساعات اداری خوانده می‌شوند؛ بحران: 9-8-8 یا 911.
# CCHS: project translation, pending validation.
cchs-belonging = حس تعلق خود به جامعه محلی‌تان را چطور توصیف می‌کنید؟ آیا:
# CCHS: project translation, pending validation.
cchs-mental-health = به طور کلی، سلامت روان شما:
