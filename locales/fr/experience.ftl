exp-heard = Deux dernières questions sur votre suivi. Avez-vous senti que votre intervenant(e) écoutait ce qui compte pour vous? Répondez OUI ou NON.
exp-recommend = Recommanderiez-vous ce genre de soutien à quelqu'un comme vous? Répondez OUI ou NON.
exp-thanks = Merci. Vos réponses nous aident à faire mieux.
