rf-went = ¿Pudo ir a { $program }?
rf-barrier = ¿Qué se lo impidió? Responda con un número:
rf-barrier-other = Cuéntenos en pocas palabras qué se lo impidió.
rf-barrier-thanks = Gracias por contarnos. Su intervenor/a le contactará para ayudarle.
rf-how = ¿Cómo le fue, de 1 (mal) a 5 (muy bien)?
rf-keep-going = ¿Quiere seguir yendo? Responda SI o NO.
rf-keep-yes = ¡Qué bien! Que lo disfrute.
rf-keep-no = Gracias por contarnos. Su intervenor/a le contactará.
