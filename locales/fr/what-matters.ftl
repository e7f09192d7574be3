wm-intro = Votre intervenant(e) de { $centre } aimerait mieux vous connaitre. Les réponses sont lues aux heures de bureau; en cas de crise, appelez ou textez le 9-8-8, ou le 911.
wm-matters = Qu'est-ce qui compte pour vous? Dites-le-nous en quelques mots.
wm-gifts = Qu'est-ce que vous aimez faire, ou qu'est-ce que vous faites bien?
wm-needs = Qu'est-ce qui vous préoccupe le plus en ce moment? Répondez avec un chiffre :
wm-needs-other = Dites-le-nous en quelques mots.
wm-callback = Voulez-vous que votre intervenant(e) vous appelle? Répondez OUI ou NON.
wm-callback-ok = Merci. Votre intervenant(e) vous appellera sous peu.
wm-thanks = Merci de nous en avoir parlé. Votre intervenant(e) lira vos réponses.
