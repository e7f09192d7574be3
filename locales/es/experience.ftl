exp-heard = Dos últimas preguntas sobre su seguimiento. ¿Sintió que su intervenor/a escuchó lo que le importa? Responda SI o NO.
exp-recommend = ¿Recomendaría este tipo de apoyo a alguien como usted? Responda SI o NO.
exp-thanks = Gracias. Sus respuestas nos ayudan a mejorar.
