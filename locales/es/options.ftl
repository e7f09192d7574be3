# Opciones de respuesta: la etiqueta y los `.synonyms` que un cliente puede escribir.
# Mayúsculas, acentos, puntuación y emojis se ignoran; los números siempre sirven.

opt-yes = Sí
    .synonyms = si, claro, vale, ok, de acuerdo, por supuesto, si gracias, bueno, dale, 👍
opt-no = No
    .synonyms = no gracias, para nada, nop
opt-not-yet = Todavía no
    .synonyms = aun no, aún no, todavia no, pronto, más tarde, despues

# UCLA-3 y ONS.
opt-hardly-ever = Casi nunca
    .synonyms = rara vez, pocas veces, casi no
opt-some-of-the-time = A veces
    .synonyms = algunas veces, de vez en cuando, a ratos
opt-often = A menudo
    .synonyms = seguido, muchas veces, frecuentemente, siempre, todo el tiempo
opt-often-always = A menudo o siempre
    .synonyms = a menudo, siempre, seguido, muchas veces, todo el tiempo
opt-occasionally = Ocasionalmente
    .synonyms = de vez en cuando, ocasional
opt-never = Nunca
    .synonyms = jamás, jamas, nunca jamás

# Momento del día.
opt-morning = Mañana
    .synonyms = manana, por la mañana, en la mañana, temprano
opt-afternoon = Tarde
    .synonyms = por la tarde, en la tarde
opt-evening = Noche
    .synonyms = por la noche, en la noche
opt-any-time = Cualquier hora
    .synonyms = cuando sea, da igual, cualquier momento, a cualquier hora

# Lo que más importa ahora.
opt-lonely = Soledad
    .synonyms = solo, sola, me siento solo, me siento sola
opt-bored = Aburrimiento
    .synonyms = aburrido, aburrida
opt-disconnected = Aislamiento
    .synonyms = desconexión, desconectado, desconectada, aislado, aislada
opt-making-ends-meet = Llegar a fin de mes
    .synonyms = dinero, plata, cuentas, no alcanza
opt-housing = Vivienda
    .synonyms = casa, alquiler, renta, departamento
opt-work = Falta de trabajo
    .synonyms = trabajo, empleo, chamba
opt-sad = Tristeza
    .synonyms = triste, deprimido, deprimida
opt-no-one-to-rely-on = Nadie en quien confiar
    .synonyms = nadie, no tengo a nadie
opt-getting-older = Envejecer
    .synonyms = edad, la edad, vejez, mayor
opt-other = Otra cosa
    .synonyms = otro, otra, algo más

# Lo que impidió ir.
opt-transport = Transporte
    .synonyms = autobús, bus, camión, no tengo auto, no tengo carro, muy lejos, lejos
opt-cost = Costo
    .synonyms = caro, dinero, precio, plata, muy caro
opt-not-up-to-it = No tenía ánimo
    .synonyms = cansado, cansada, enfermo, enferma, sin ánimo, no me sentía bien
opt-not-welcome = No me sentí bienvenido/a
    .synonyms = no bienvenido, no bienvenida, incómodo, incómoda
opt-timing = El horario
    .synonyms = horario, hora, no tuve tiempo, ocupado, ocupada

# Pertenencia a la comunidad.
opt-very-strong = Muy fuerte
opt-somewhat-strong = Algo fuerte
    .synonyms = fuerte, bastante fuerte
opt-somewhat-weak = Algo débil
    .synonyms = débil, debil, bastante débil
opt-very-weak = Muy débil
    .synonyms = muy debil

# Salud mental.
opt-excellent = Excelente
opt-very-good = Muy buena
    .synonyms = muy bien, muy bueno
opt-good = Buena
    .synonyms = bien, bueno
opt-fair = Regular
    .synonyms = más o menos, mas o menos, así así
opt-poor = Mala
    .synonyms = mal, malo, muy mal

# How are things (holistic check-in).
opt-well = Bien
opt-so-so = Más o menos
opt-not-well = Mal
