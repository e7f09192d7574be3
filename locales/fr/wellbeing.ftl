# ONS4 (bien-être personnel) : traduction du projet, non validée.
wellbeing-intro = Quatre questions sur votre qualité de vie, de 0 (pas du tout) à 10 (complètement). Les réponses sont lues aux heures de bureau; en cas de crise, appelez ou textez le 9-8-8, ou le 911.
ons4-satisfied = Dans l'ensemble, à quel point votre vie vous satisfait-elle ces temps-ci? (0-10)
ons4-worthwhile = Dans l'ensemble, à quel point avez-vous le sentiment que ce que vous faites dans la vie en vaut la peine? (0-10)
ons4-happy = Dans l'ensemble, à quel point vous sentiez-vous heureux(se) hier? (0-10)
ons4-anxious = Sur une échelle où 0 est "pas du tout anxieux" et 10 "complètement anxieux", à quel point vous sentiez-vous anxieux(se) hier?
