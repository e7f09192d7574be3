# Mensajes fuera de toda encuesta. Variables: $centre, $program.
# á í ó ú pasan el SMS a UCS-2 (70 caracteres por segmento): cada mensaje cabe en 134.
help = { $centre }: mensajes de su intervenor/a. Responda STOP para parar, START para reanudar. Crisis: 9-8-8 o 911.
stop-confirmation = Ya no recibirá mensajes de { $centre }. Responda START para recibirlos otra vez.
start-confirmation = Bienvenido/a de nuevo. Recibirá otra vez los mensajes de { $centre }. Responda STOP para parar.
language-switched = De acuerdo, le escribiremos en español.
crisis-reply = Si está en peligro o piensa en el suicidio, llame o envíe un texto al 9-8-8 (inglés/francés) o llame al 911 (con intérprete).
no-session = Gracias por su mensaje. Su intervenor/a lo leerá en horario de oficina. En crisis: 9-8-8 o 911.
stale-button = Ese botón es de una pregunta anterior, ya cerrada. No pasa nada: responda la última pregunta.
language-choice = Para cambiar de idioma, responda con su nombre: { $languages }.
program-default = el programa que le recomendaron
nudge-gentle = Solo para saber de usted. Cuando pueda, responda nuestra última pregunta, o escriba SALTAR.
survey-thanks = ¡Gracias! Sus respuestas quedan guardadas para su intervenor/a.

reprompt-choice = Perdón, no entendí. Responda con un número del 1 al { $count }:
reprompt-yes-no = Perdón, no entendí. Responda SI o NO.
reprompt-scale = Perdón, no entendí. Responda con un número del { $min } al { $max }.
reprompt-date = Perdón, no entendí. Responda con una fecha, como 15/03 o 2026-03-15.
reprompt-text = Responda con unas pocas palabras, por favor.

# El nombre del idioma en su idioma, y lo que un cliente puede escribir para cambiar a él.
language-name = Español
    .synonyms = espanol, spanish, espagnol, castellano, es, spa, esp

# Números de cero a diez, para las escalas.
numbers =
    .words = cero, uno, dos, tres, cuatro, cinco, seis, siete, ocho, nueve, diez

dates =
    .today = hoy
    .tomorrow = mañana, manana
telegram-stranger = Este bot envía mensajes a clientes de { $centre }. Para conectarse, abra el enlace de su intervenor/a. Crisis: 9-8-8 o 911.
