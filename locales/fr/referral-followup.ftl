rf-went = Avez-vous pu aller à { $program }?
rf-barrier = Qu'est-ce qui vous a bloqué(e)? Répondez avec un chiffre :
rf-barrier-other = Dites-nous en quelques mots ce qui vous a bloqué(e).
rf-barrier-thanks = Merci de nous l'avoir dit. Votre intervenant(e) vous contactera pour vous aider.
rf-how = Comment était-ce, de 1 (pas bien) à 5 (très bien)?
rf-keep-going = Voulez-vous continuer? Répondez OUI ou NON.
rf-keep-yes = Excellent. Profitez-en bien!
rf-keep-no = Merci de nous l'avoir dit. Votre intervenant(e) vous contactera.
