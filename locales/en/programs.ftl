# A program's details, as texted to the client when a navigator refers them (signposting).
pd-where = Where: { $where }
pd-where-both = Where: { $where }, or online
pd-online = Online
pd-when = When: { $when }
pd-weekly = { $day } { $time }
pd-dated = { $date } { $time }
pd-time = { $hh }:{ $mm }
pd-day-mon = Mondays
pd-day-tue = Tuesdays
pd-day-wed = Wednesdays
pd-day-thu = Thursdays
pd-day-fri = Fridays
pd-day-sat = Saturdays
pd-day-sun = Sundays
pd-cost-free = Free
pd-cost-low-cost = Low cost
pd-cost-fee-waivable = There is a fee, which can be waived
pd-contact = Contact: { $contact }
pd-transport = Getting there: { $transport }
# The day before a session, to clients who agreed to reminders.
pd-reminder = Reminder: { $program } is tomorrow at { $time }, { $where }.
pd-reminder-online = Reminder: { $program } is tomorrow at { $time }, online.
