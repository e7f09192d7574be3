# مقیاس تنهایی UCLA سه‌پرسشی (Hughes et al. 2004) و پرسش مستقیم ONS.
loneliness-intro = چند سؤال درباره حال شما. شماره پاسخ را بفرستید. پاسخ‌ها در ساعات اداری خوانده می‌شوند؛ بحران: 9-8-8 یا 911.
# UCLA-3: project translation, pending validation.
ucla3-companionship = چقدر احساس می‌کنید که همدم ندارید؟
# UCLA-3: project translation, pending validation.
ucla3-left-out = چقدر احساس می‌کنید کنار گذاشته شده‌اید؟
# UCLA-3: project translation, pending validation.
ucla3-isolated = چقدر احساس می‌کنید از دیگران جدا افتاده‌اید؟
# ONS direct question: project translation, pending validation.
ons-lonely = چقدر احساس تنهایی می‌کنید؟
