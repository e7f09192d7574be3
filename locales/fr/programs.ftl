# A program's details, as texted to the client when a navigator refers them (signposting).
pd-where = Où : { $where }
pd-where-both = Où : { $where }, ou en ligne
pd-online = En ligne
pd-when = Quand : { $when }
pd-weekly = { $day } à { $time }
pd-dated = le { $date } à { $time }
pd-time = { $h } h { $mm }
pd-day-mon = les lundis
pd-day-tue = les mardis
pd-day-wed = les mercredis
pd-day-thu = les jeudis
pd-day-fri = les vendredis
pd-day-sat = les samedis
pd-day-sun = les dimanches
pd-cost-free = Gratuit
pd-cost-low-cost = Coût modique
pd-cost-fee-waivable = Des frais, dont on peut être exempté
pd-contact = Contact : { $contact }
pd-transport = Pour s'y rendre : { $transport }
# The day before a session, to clients who agreed to reminders.
pd-reminder = Rappel : { $program } a lieu demain à { $time }, { $where }.
pd-reminder-online = Rappel : { $program } a lieu demain à { $time }, en ligne.
