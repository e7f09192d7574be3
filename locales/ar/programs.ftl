# A program's details, as texted to the client when a navigator refers them (signposting).
pd-where = المكان: { $where }
pd-where-both = المكان: { $where }، أو عبر الإنترنت
pd-online = عبر الإنترنت
pd-when = الموعد: { $when }
pd-weekly = { $day } { $time }
pd-dated = { $date } { $time }
pd-time = { $hh }:{ $mm }
pd-day-mon = أيام الاثنين
pd-day-tue = أيام الثلاثاء
pd-day-wed = أيام الأربعاء
pd-day-thu = أيام الخميس
pd-day-fri = أيام الجمعة
pd-day-sat = أيام السبت
pd-day-sun = أيام الأحد
pd-cost-free = مجاني
pd-cost-low-cost = تكلفة منخفضة
pd-cost-fee-waivable = توجد رسوم يمكن الإعفاء منها
pd-contact = للتواصل: { $contact }
pd-transport = الوصول: { $transport }
# The day before a session, to clients who agreed to reminders.
pd-reminder = تذكير: { $program } غدًا في الساعة { $time }، في { $where }.
pd-reminder-online = تذكير: { $program } غدًا في الساعة { $time }، عبر الإنترنت.
