hat-how = Comment allez-vous ces temps-ci? Répondez avec un chiffre :
hat-thanks = Merci de nous l'avoir dit. Nous sommes là si vous avez besoin de nous.
