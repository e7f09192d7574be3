hat-how = ¿Cómo le va estos días? Responda con un número:
hat-thanks = Gracias por contarnos. Estamos aquí si nos necesita.
