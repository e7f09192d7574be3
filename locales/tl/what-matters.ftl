wm-intro = Gusto kayong makilala ng inyong navigator sa { $centre }. Binabasa ang mga sagot sa oras ng opisina; sa krisis, tumawag o mag-text sa 9-8-8, o 911.
wm-matters = Ano ang mahalaga sa inyo? Sabihin po sa ilang salita.
wm-gifts = Ano ang gusto ninyong gawin, o saan kayo magaling?
wm-needs = Alin dito ang pinakamahalaga sa inyo ngayon? I-reply ang numero:
wm-needs-other = Sabihin po sa ilang salita.
wm-callback = Gusto ba ninyong tawagan kayo ng inyong navigator? I-reply ang OO o HINDI.
wm-callback-ok = Salamat po. Tatawagan kayo ng inyong navigator sa lalong madaling panahon.
wm-thanks = Salamat sa pagbabahagi. Babasahin ng inyong navigator ang inyong mga sagot.
