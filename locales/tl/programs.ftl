# A program's details, as texted to the client when a navigator refers them (signposting).
pd-where = Saan: { $where }
pd-where-both = Saan: { $where }, o online
pd-online = Online
pd-when = Kailan: { $when }
pd-weekly = tuwing { $day } { $time }
pd-dated = { $date } { $time }
pd-time = { $hh }:{ $mm }
pd-day-mon = Lunes
pd-day-tue = Martes
pd-day-wed = Miyerkules
pd-day-thu = Huwebes
pd-day-fri = Biyernes
pd-day-sat = Sabado
pd-day-sun = Linggo
pd-cost-free = Libre
pd-cost-low-cost = Mababang bayad
pd-cost-fee-waivable = May bayad, na maaaring i-waive
pd-contact = Makipag-ugnayan: { $contact }
pd-transport = Paano pumunta: { $transport }
# The day before a session, to clients who agreed to reminders.
pd-reminder = Paalala: Ang { $program } ay bukas nang { $time }, sa { $where }.
pd-reminder-online = Paalala: Ang { $program } ay bukas nang { $time }, online.
