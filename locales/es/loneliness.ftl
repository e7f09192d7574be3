# Escala de soledad UCLA de 3 preguntas (Hughes et al. 2004) y la pregunta directa de la ONS.
loneliness-intro = Unas preguntas sobre cómo se ha sentido. Responda con el número. Leemos en horario de oficina; crisis: 9-8-8 o 911.
# UCLA-3: project translation, pending validation.
ucla3-companionship = ¿Con qué frecuencia siente que le falta compañía?
# UCLA-3: project translation, pending validation.
ucla3-left-out = ¿Con qué frecuencia se siente excluido/a?
# UCLA-3: project translation, pending validation.
ucla3-isolated = ¿Con qué frecuencia se siente aislado/a de los demás?
# ONS direct question: project translation, pending validation.
ons-lonely = ¿Con qué frecuencia se siente solo/a?
