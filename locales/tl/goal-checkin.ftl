gc-rating = Itinakda ninyo ang layuning ito kasama ang inyong navigator: "{ $goal }". Gaano na kayo kalapit dito? I-reply ang 0 (hindi pa) hanggang 10 (naabot na).
gc-in-the-way = May humahadlang ba sa inyo? I-reply ang OO o HINDI.
gc-what = Ano ang humahadlang? Sabihin po sa ilang salita.
gc-noted = Salamat. Babasahin ito ng inyong navigator at makikipag-ugnayan.
gc-thanks = Salamat. Ituloy lang!
