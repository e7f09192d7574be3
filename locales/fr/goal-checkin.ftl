# Suivi des objectifs. { $goal } : l'objectif dans les mots de la personne, jamais traduit.
gc-rating = Vous avez fixé cet objectif avec votre intervenant(e) : "{ $goal }". Quelle est votre progression? Répondez de 0 (pas du tout) à 10 (atteint).
gc-in-the-way = Est-ce que quelque chose vous bloque? Répondez OUI ou NON.
gc-what = Qu'est-ce qui vous bloque? Dites-le-nous en quelques mots.
gc-noted = Merci. Votre intervenant(e) lira votre réponse et vous contactera.
gc-thanks = Merci. Bonne continuation!
