# Choix de réponse communs à tous les parcours : le libellé affiché, et les `.synonyms` qu'un
# client peut écrire. Majuscules, accents, ponctuation et émojis autour sont ignorés.

opt-yes = Oui
    .synonyms = o, ouais, oui merci, bien sûr, d'accord, ok, correct, certainement, yes
opt-no = Non
    .synonyms = n, non merci, pas vraiment, nan, no
opt-not-yet = Pas encore
    .synonyms = pas encore, bientôt, plus tard

# UCLA-3 et question directe de l'ONS.
opt-hardly-ever = Presque jamais
    .synonyms = rarement, quasiment jamais, pas souvent, presque pas
opt-some-of-the-time = Parfois
    .synonyms = quelquefois, des fois, à l'occasion, de fois en fois
opt-often = Souvent
    .synonyms = fréquemment, tout le temps, toujours, très souvent, beaucoup
opt-often-always = Souvent ou toujours
    .synonyms = souvent, toujours, tout le temps, fréquemment, beaucoup
opt-occasionally = De temps en temps
    .synonyms = occasionnellement, de temps à autre, à l'occasion
opt-never = Jamais
    .synonyms = pas du tout, jamais jamais

# Moment de la journée.
opt-morning = Le matin
    .synonyms = matin, avant-midi, am
opt-afternoon = L'après-midi
    .synonyms = après-midi, apres midi, pm
opt-evening = Le soir
    .synonyms = soir, soirée, en soirée
opt-any-time = N'importe quand
    .synonyms = n'importe quand, peu importe, toute la journée, quand vous voulez

# Besoins (carte-aide-mémoire).
opt-lonely = Je me sens seul(e)
    .synonyms = seul, seule, solitude, isolé, isolée
opt-bored = Je m'ennuie
    .synonyms = ennui, ennuyé, ennuyée
opt-disconnected = Je me sens coupé(e) des autres
    .synonyms = coupé, coupée, déconnecté, déconnectée
opt-making-ends-meet = Boucler les fins de mois
    .synonyms = argent, fins de mois, factures, pas assez d'argent
opt-housing = Logement
    .synonyms = loyer, maison, appartement
opt-work = Pas de travail
    .synonyms = travail, emploi, job
opt-sad = Je me sens triste
    .synonyms = triste, tristesse, déprimé, déprimée
opt-no-one-to-rely-on = Personne sur qui compter
    .synonyms = personne, personne sur qui compter
opt-getting-older = Vieillir
    .synonyms = vieillesse, âge, vieillissement
opt-other = Autre chose
    .synonyms = autre, autre chose

# Obstacles.
opt-transport = Le transport
    .synonyms = transport, autobus, bus, pas d'auto, trop loin, pas de voiture
opt-cost = Trop cher
    .synonyms = coût, cout, le coût, argent, cher, prix, frais
opt-not-up-to-it = Pas la force d'y aller
    .synonyms = pas la force, fatigué, fatiguée, trop fatigué, malade, pas bien
opt-not-welcome = Pas le bienvenu
    .synonyms = pas bienvenu, pas bienvenue, pas la bienvenue, mal accueilli, mal accueillie
opt-timing = Le moment
    .synonyms = horaire, moment, pas le temps, occupé, occupée, mauvais moment

# Appartenance à la communauté.
opt-very-strong = Très fort
    .synonyms = très forte, tres fort
opt-somewhat-strong = Plutôt fort
    .synonyms = plutôt forte, fort, forte
opt-somewhat-weak = Plutôt faible
    .synonyms = faible
opt-very-weak = Très faible

# Santé mentale perçue.
opt-excellent = Excellente
    .synonyms = excellent
opt-very-good = Très bonne
    .synonyms = très bon, tres bonne
opt-good = Bonne
    .synonyms = bon, correct, ok, ça va
opt-fair = Passable
    .synonyms = moyenne, moyen, bof
opt-poor = Mauvaise
    .synonyms = mauvais, pas bonne, pas bon

# How are things (holistic check-in).
opt-well = Bien
    .synonyms = bon, très bien, tres bien, super, ça va bien, ca va bien
opt-so-so = Comme ci, comme ça
    .synonyms = correct, pas mal, bof, moyen, ça peut aller, ca peut aller, couci-couça
opt-not-well = Pas bien
    .synonyms = mal, pas bon, difficile, ça va mal, ca va mal, pas terrible
