# ONS4, bienestar personal.
wellbeing-intro = Cuatro preguntas sobre su bienestar, de 0 (nada) a 10 (totalmente). Leemos en horario de oficina; crisis: 9-8-8 o 911.
# ONS4: project translation, pending validation.
ons4-satisfied = En general, ¿qué tan satisfecho/a está con su vida hoy en día? (0-10)
# ONS4: project translation, pending validation.
ons4-worthwhile = En general, ¿en qué medida siente que lo que hace en su vida vale la pena? (0-10)
# ONS4: project translation, pending validation.
ons4-happy = En general, ¿qué tan feliz se sintió ayer? (0-10)
# ONS4: project translation, pending validation.
ons4-anxious = Si 0 es "nada ansioso/a" y 10 "totalmente ansioso/a", en general, ¿qué tan ansioso/a se sintió ayer?
