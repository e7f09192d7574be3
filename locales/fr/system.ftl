# Messages envoyés hors de tout parcours. Variables : $centre, $program.
# AIDE doit tenir en 160 caractères GSM-7, nommer le centre et dire comment arrêter.
# Apostrophes droites (') : l'apostrophe typographique (’) ferait passer le SMS en UCS-2.

help = { $centre } : suivi par texto de votre intervenant(e). ARRET pour ne plus recevoir de messages. Crise : appelez ou textez le 9-8-8, ou le 911.
stop-confirmation = Vous ne recevrez plus de messages de { $centre }. Répondez START pour les recevoir de nouveau.
start-confirmation = Bon retour! Vous recevrez de nouveau les messages de { $centre }. Répondez ARRET pour ne plus les recevoir.
language-switched = D'accord, nous vous écrirons en français.
crisis-reply = En danger ou pensées suicidaires? Appelez ou textez le 9-8-8 (24/7, en français) ou le 911. Votre intervenant(e) vous joindra aussi.
no-session = Merci pour votre message. Votre intervenant(e) le lira pendant les heures de bureau. En cas de crise, appelez ou textez le 9-8-8, ou le 911.
stale-button = Ce bouton appartient à une question précédente, déjà fermée. Pas de souci : répondez simplement à la dernière question.
language-choice = Pour changer de langue, répondez avec son nom : { $languages }.
program-default = le programme qu'on vous a recommandé
nudge-gentle = Petit rappel : quand vous aurez un moment, répondez à notre dernière question, ou écrivez PASSER pour la sauter.
survey-thanks = Merci! Vos réponses sont enregistrées pour votre intervenant(e).

reprompt-choice = Désolé, je n'ai pas compris. Répondez avec un chiffre de 1 à { $count } :
reprompt-yes-no = Désolé, je n'ai pas compris. Répondez OUI ou NON.
reprompt-scale = Désolé, je n'ai pas compris. Répondez avec un nombre de { $min } à { $max }.
reprompt-date = Désolé, je n'ai pas compris. Répondez avec une date, comme 15/03 ou 2026-03-15.
reprompt-text = Répondez en quelques mots, s'il vous plait.

language-name = Français
    .synonyms = francais, français, french, fr, fra, franc, francés

numbers =
    .words = zéro, un, deux, trois, quatre, cinq, six, sept, huit, neuf, dix

dates =
    .today = aujourd'hui, aujourdhui
    .tomorrow = demain
telegram-stranger = Ce robot envoie des suivis aux client(e)s de { $centre }. Pour vous connecter, ouvrez le lien donné par votre intervenant(e). En cas de crise, appelez ou textez le 9-8-8, ou le 911.
