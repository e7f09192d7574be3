# Échelle de solitude UCLA à 3 questions (Hughes et al. 2004) : il n'existe pas de version
# française officielle. Le texte ci-dessous est la TRADUCTION DU PROJET, non validée.
# Question directe de l'ONS : traduction du projet également.
loneliness-intro = Quelques questions sur comment vous vous sentez. Répondez avec le chiffre de votre réponse. Les réponses sont lues pendant les heures de bureau; en cas de crise, appelez ou textez le 9-8-8, ou le 911.
# UCLA-3, traduction du projet.
ucla3-companionship = À quelle fréquence avez-vous l'impression de manquer de compagnie?
# UCLA-3, traduction du projet.
ucla3-left-out = À quelle fréquence vous sentez-vous laissé(e) de côté?
# UCLA-3, traduction du projet.
ucla3-isolated = À quelle fréquence vous sentez-vous isolé(e) des autres?
# ONS, traduction du projet.
ons-lonely = À quelle fréquence vous sentez-vous seul(e)?
