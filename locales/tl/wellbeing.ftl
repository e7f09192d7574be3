# ONS4 personal wellbeing.
wellbeing-intro = Apat na tanong tungkol sa inyong kapakanan, mula 0 (hindi talaga) hanggang 10 (lubos). Binabasa ang sagot sa oras ng opisina; sa krisis: 9-8-8 o 911.
# ONS4: project translation, pending validation.
ons4-satisfied = Sa pangkalahatan, gaano kayo nasisiyahan sa inyong buhay sa ngayon? (0-10)
# ONS4: project translation, pending validation.
ons4-worthwhile = Sa pangkalahatan, gaano ninyo nararamdaman na may saysay ang mga ginagawa ninyo sa buhay? (0-10)
# ONS4: project translation, pending validation.
ons4-happy = Sa pangkalahatan, gaano kayo kasaya kahapon? (0-10)
# ONS4: project translation, pending validation.
ons4-anxious = Kung ang 0 ay "hindi talaga nababalisa" at ang 10 ay "lubos na nababalisa", sa pangkalahatan, gaano kayo nabalisa kahapon?
