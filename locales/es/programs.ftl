# A program's details, as texted to the client when a navigator refers them (signposting).
pd-where = Dónde: { $where }
pd-where-both = Dónde: { $where }, o en línea
pd-online = En línea
pd-when = Cuándo: { $when }
pd-weekly = { $day } a las { $time }
pd-dated = { $date } a las { $time }
pd-time = { $hh }:{ $mm }
pd-day-mon = los lunes
pd-day-tue = los martes
pd-day-wed = los miércoles
pd-day-thu = los jueves
pd-day-fri = los viernes
pd-day-sat = los sábados
pd-day-sun = los domingos
pd-cost-free = Gratis
pd-cost-low-cost = Bajo costo
pd-cost-fee-waivable = Tiene un costo, que se puede exonerar
pd-contact = Contacto: { $contact }
pd-transport = Cómo llegar: { $transport }
# The day before a session, to clients who agreed to reminders.
pd-reminder = Recordatorio: { $program } es mañana a las { $time }, en { $where }.
pd-reminder-online = Recordatorio: { $program } es mañana a las { $time }, en línea.
