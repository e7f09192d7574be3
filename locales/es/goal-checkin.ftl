gc-rating = Su meta: "{ $goal }". ¿Qué tan cerca está ahora? Responda de 0 (nada) a 10 (lograda).
gc-in-the-way = ¿Algo le impide avanzar? Responda SI o NO.
gc-what = ¿Qué le impide avanzar? Cuéntenos en pocas palabras.
gc-noted = Gracias. Su intervenor/a lo leerá y se pondrá en contacto.
gc-thanks = Gracias. ¡Siga así!
