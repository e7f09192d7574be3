wm-intro = Su intervenor/a de { $centre } quiere conocerle mejor. Leemos en horario de oficina; crisis: 9-8-8 o 911.
wm-matters = ¿Qué es lo que le importa? Cuéntenos en pocas palabras.
wm-gifts = ¿Qué le gusta hacer, o en qué es bueno/a?
# Sin á í ó ú, para que la pregunta con sus diez opciones quede en GSM-7 (dos segmentos).
wm-needs = ¿Qué le preocupa sobre todo hoy? Responda 1, 2, 3...:
wm-needs-other = Cuéntenos en pocas palabras, por favor.
wm-callback = ¿Quiere que su intervenor/a le llame? Responda SI o NO.
wm-callback-ok = Gracias. Su intervenor/a le llamará pronto.
wm-thanks = Gracias por compartir. Su intervenor/a leerá sus respuestas.
