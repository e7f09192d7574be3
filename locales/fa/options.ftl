# گزینه‌های پاسخ: برچسب، و `.synonyms` که مراجع می‌تواند بنویسد. اعداد همیشه پذیرفته
# می‌شوند (۱ ۲ ۳ یا 1 2 3). ی/ي و ک/ك و نیم‌فاصله فرقی نمی‌کنند.

opt-yes = بله
    .synonyms = آره, اره, بلی, باشه, حتما, حتماً, موافقم, چشم, البته, آری, 👍
opt-no = نه
    .synonyms = خیر, نه ممنون, نه مرسی, موافق نیستم, نمیخوام
opt-not-yet = هنوز نه
    .synonyms = هنوز نرفتم, هنوز, بعدا, به زودی

# UCLA-3 و ONS.
opt-hardly-ever = به‌ندرت
    .synonyms = بندرت, به ندرت, کم, خیلی کم, تقریبا هیچوقت
opt-some-of-the-time = گاهی
    .synonyms = گاهی وقت‌ها, بعضی وقت‌ها, بعضی وقتها, گاه
opt-often = اغلب
    .synonyms = بیشتر وقت‌ها, زیاد, همیشه, خیلی وقت‌ها
opt-often-always = اغلب/همیشه
    .synonyms = اغلب, همیشه, بیشتر وقت‌ها, زیاد
opt-occasionally = گه‌گاه
    .synonyms = گه گاه, گهگاه, هر از گاهی
opt-never = هرگز
    .synonyms = هیچ‌وقت, هیچوقت, اصلا, اصلاً

# وقت روز.
opt-morning = صبح
    .synonyms = صبح‌ها, صبحها
opt-afternoon = بعدازظهر
    .synonyms = بعد از ظهر, ظهر, عصر
opt-evening = عصر و شب
    .synonyms = شب, شبها, شب‌ها
opt-any-time = هر وقت
    .synonyms = هر ساعتی, فرقی نمیکند, فرقی نداره, هر موقع

# الان چه مهم‌تر است.
opt-lonely = تنهایی
    .synonyms = تنها, تنهام
opt-bored = بی‌حوصلگی
    .synonyms = بی حوصله, حوصله‌ام سر رفته, کسل
opt-disconnected = دوری
    .synonyms = دوری از دیگران, جدا افتاده, بریده از دیگران
opt-making-ends-meet = پول
    .synonyms = خرج زندگی, مالی, قبض, پول کم
opt-housing = مسکن
    .synonyms = خانه, اجاره, خونه
opt-work = بیکاری
    .synonyms = کار, شغل, کار ندارم
opt-sad = غم
    .synonyms = غمگین, ناراحت, افسرده
opt-no-one-to-rely-on = بی‌پشتوانه
    .synonyms = کسی را ندارم, هیچکس, کسی نیست
opt-getting-older = پیری
    .synonyms = سن, سن بالا, پیر شدن
opt-other = چیز دیگر
    .synonyms = دیگر, غیره

# مانع رفتن.
opt-transport = رفت‌وآمد
    .synonyms = رفت و آمد, اتوبوس, ماشین ندارم, خیلی دور, دور
opt-cost = هزینه
    .synonyms = گران, گرون, پول, قیمت
opt-not-up-to-it = حالش را نداشتم
    .synonyms = خسته, بیمار, مریض, حال نداشتم
opt-not-welcome = احساس خوشامد نکردم
    .synonyms = غریبه, معذب, خوشامد نگفتند
opt-timing = زمان
    .synonyms = وقت نداشتم, وقت, سرم شلوغ بود, ساعت

# تعلق به جامعه.
opt-very-strong = خیلی قوی
opt-somewhat-strong = نسبتاً قوی
    .synonyms = نسبتا قوی, قوی
opt-somewhat-weak = نسبتاً ضعیف
    .synonyms = نسبتا ضعیف, ضعیف
opt-very-weak = خیلی ضعیف

# سلامت روان.
opt-excellent = عالی
opt-very-good = خیلی خوب
opt-good = خوب
    .synonyms = خوبه, بد نیست
opt-fair = متوسط
    .synonyms = معمولی, نه خوب نه بد, ای
opt-poor = بد
    .synonyms = خراب, ضعیف, خوب نیست

# How are things (holistic check-in).
opt-well = خوب
opt-so-so = معمولی
opt-not-well = خوب نیستم
