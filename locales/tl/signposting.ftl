sp-details = Iminungkahi ng inyong navigator ang { $program }. Kung gusto ninyo ulit ang mga detalye nito o tulong para makarating doon, sumagot sa mensaheng ito.
