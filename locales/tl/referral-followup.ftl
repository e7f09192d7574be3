rf-went = Nakapunta po ba kayo sa { $program }?
rf-barrier = Ano ang naging hadlang? I-reply ang numero:
rf-barrier-other = Sabihin po sa ilang salita kung ano ang naging hadlang.
rf-barrier-thanks = Salamat sa pagsabi. Makikipag-ugnayan ang inyong navigator para tumulong.
rf-how = Kumusta ito, mula 1 (hindi maganda) hanggang 5 (napakaganda)?
rf-keep-going = Gusto ba ninyong magpatuloy? I-reply ang OO o HINDI.
rf-keep-yes = Napakaganda. Mag-enjoy po kayo!
rf-keep-no = Salamat sa pagsabi. Makikipag-ugnayan ang inyong navigator.
