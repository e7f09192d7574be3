# A program's details, as texted to the client when a navigator refers them (signposting).
pd-where = ਕਿੱਥੇ: { $where }
pd-where-both = ਕਿੱਥੇ: { $where }, ਜਾਂ ਔਨਲਾਈਨ
pd-online = ਔਨਲਾਈਨ
pd-when = ਕਦੋਂ: { $when }
pd-weekly = { $day } { $time }
pd-dated = { $date } { $time }
pd-time = { $hh }:{ $mm }
pd-day-mon = ਸੋਮਵਾਰ ਨੂੰ
pd-day-tue = ਮੰਗਲਵਾਰ ਨੂੰ
pd-day-wed = ਬੁੱਧਵਾਰ ਨੂੰ
pd-day-thu = ਵੀਰਵਾਰ ਨੂੰ
pd-day-fri = ਸ਼ੁੱਕਰਵਾਰ ਨੂੰ
pd-day-sat = ਸ਼ਨੀਵਾਰ ਨੂੰ
pd-day-sun = ਐਤਵਾਰ ਨੂੰ
pd-cost-free = ਮੁਫ਼ਤ
pd-cost-low-cost = ਘੱਟ ਕੀਮਤ
pd-cost-fee-waivable = ਫੀਸ ਹੈ, ਜੋ ਮੁਆਫ਼ ਹੋ ਸਕਦੀ ਹੈ
pd-contact = ਸੰਪਰਕ: { $contact }
pd-transport = ਉੱਥੇ ਪਹੁੰਚਣਾ: { $transport }
# The day before a session, to clients who agreed to reminders.
pd-reminder = ਯਾਦ ਦਿਵਾਉਣਾ: { $program } ਕੱਲ੍ਹ { $time } ਵਜੇ ਹੈ, { $where }।
pd-reminder-online = ਯਾਦ ਦਿਵਾਉਣਾ: { $program } ਕੱਲ੍ਹ { $time } ਵਜੇ ਹੈ, ਔਨਲਾਈਨ।
