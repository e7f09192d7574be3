# Questions de l'Enquête sur la santé dans les collectivités canadiennes (ESCC), Statistique Canada.
belonging-intro = Deux courtes questions sur votre communauté et votre santé. Les réponses sont lues pendant les heures de bureau; en cas de crise, appelez ou textez le 9-8-8, ou le 911.
cchs-belonging = Votre sentiment d'appartenance à votre communauté locale est-il :
cchs-mental-health = En général, diriez-vous que votre santé mentale est :
