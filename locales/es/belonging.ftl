# Preguntas de la Encuesta de Salud de las Comunidades Canadienses (CCHS).
belonging-intro = Dos preguntas cortas sobre su comunidad y su salud. Leemos en horario de oficina; crisis: 9-8-8 o 911.
# CCHS: project translation, pending validation.
cchs-belonging = ¿Cómo describiría su sentido de pertenencia a su comunidad local? Diría que es:
# CCHS: project translation, pending validation.
cchs-mental-health = En general, ¿diría que su salud mental es:
