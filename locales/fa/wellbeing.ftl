# ONS4، بهزیستی فردی.
wellbeing-intro = چهار سؤال درباره حال شما، از 0 (اصلاً) تا 10 (کاملاً). پاسخ‌ها در ساعات اداری خوانده می‌شوند؛ بحران: 9-8-8 یا 911.
# ONS4: project translation, pending validation.
ons4-satisfied = به طور کلی، این روزها چقدر از زندگی‌تان راضی هستید؟ (0-10)
# ONS4: project translation, pending validation.
ons4-worthwhile = به طور کلی، چقدر احساس می‌کنید کارهایی که در زندگی می‌کنید ارزشمند است؟ (0-10)
# ONS4: project translation, pending validation.
ons4-happy = به طور کلی، دیروز چقدر احساس شادی کردید؟ (0-10)
# ONS4: project translation, pending validation.
ons4-anxious = اگر 0 یعنی «اصلاً مضطرب نبودم» و 10 «کاملاً مضطرب»، به طور کلی دیروز چقدر مضطرب بودید؟
