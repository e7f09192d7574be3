# A program's details, as texted to the client when a navigator refers them (signposting).
pd-where = Де: { $where }
pd-where-both = Де: { $where }, або онлайн
pd-online = Онлайн
pd-when = Коли: { $when }
pd-weekly = { $day } о { $time }
pd-dated = { $date } о { $time }
pd-time = { $hh }:{ $mm }
pd-day-mon = щопонеділка
pd-day-tue = щовівторка
pd-day-wed = щосереди
pd-day-thu = щочетверга
pd-day-fri = щоп'ятниці
pd-day-sat = щосуботи
pd-day-sun = щонеділі
pd-cost-free = Безкоштовно
pd-cost-low-cost = Недорого
pd-cost-fee-waivable = Є плата, від якої можна звільнити
pd-contact = Контакт: { $contact }
pd-transport = Як дістатися: { $transport }
# The day before a session, to clients who agreed to reminders.
pd-reminder = Нагадування: { $program } завтра о { $time }, { $where }.
pd-reminder-online = Нагадування: { $program } завтра о { $time }, онлайн.
