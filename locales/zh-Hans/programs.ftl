# A program's details, as texted to the client when a navigator refers them (signposting).
pd-where = 地点：{ $where }
pd-where-both = 地点：{ $where }，或线上
pd-online = 线上
pd-when = 时间：{ $when }
pd-weekly = { $day } { $time }
pd-dated = { $date } { $time }
pd-time = { $hh }:{ $mm }
pd-day-mon = 每周一
pd-day-tue = 每周二
pd-day-wed = 每周三
pd-day-thu = 每周四
pd-day-fri = 每周五
pd-day-sat = 每周六
pd-day-sun = 每周日
pd-cost-free = 免费
pd-cost-low-cost = 低费用
pd-cost-fee-waivable = 需付费，可申请减免
pd-contact = 联系：{ $contact }
pd-transport = 交通：{ $transport }
# The day before a session, to clients who agreed to reminders.
pd-reminder = 提醒：{ $program } 明天 { $time } 举行，地点：{ $where }。
pd-reminder-online = 提醒：{ $program } 明天 { $time } 在线举行。
