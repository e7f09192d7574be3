# Mga tanong ng Canadian Community Health Survey (CCHS).
belonging-intro = Dalawang maikling tanong tungkol sa inyong komunidad at kalusugan. Binabasa ang mga sagot sa oras ng opisina; sa krisis, tumawag o mag-text sa 9-8-8, o 911.
# CCHS: project translation, pending validation.
cchs-belonging = Paano ninyo ilalarawan ang pakiramdam ninyong kabilang kayo sa inyong lokal na komunidad? Masasabi ba ninyong ito ay:
# CCHS: project translation, pending validation.
cchs-mental-health = Sa pangkalahatan, masasabi ba ninyong ang inyong kalusugang pangkaisipan ay:
