# A program's details, as texted to the client when a navigator refers them (signposting).
pd-where = مکان: { $where }
pd-where-both = مکان: { $where }، یا آنلاین
pd-online = آنلاین
pd-when = زمان: { $when }
pd-weekly = { $day } { $time }
pd-dated = { $date } { $time }
pd-time = { $hh }:{ $mm }
pd-day-mon = دوشنبه‌ها
pd-day-tue = سه‌شنبه‌ها
pd-day-wed = چهارشنبه‌ها
pd-day-thu = پنجشنبه‌ها
pd-day-fri = جمعه‌ها
pd-day-sat = شنبه‌ها
pd-day-sun = یکشنبه‌ها
pd-cost-free = رایگان
pd-cost-low-cost = کم‌هزینه
pd-cost-fee-waivable = هزینه دارد، اما می‌توان از آن معاف شد
pd-contact = تماس: { $contact }
pd-transport = رسیدن به آنجا: { $transport }
# The day before a session, to clients who agreed to reminders.
pd-reminder = یادآوری: { $program } فردا ساعت { $time } است، در { $where }.
pd-reminder-online = یادآوری: { $program } فردا ساعت { $time } است، به‌صورت آنلاین.
