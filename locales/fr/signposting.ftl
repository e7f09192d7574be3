sp-details = Votre intervenant(e) vous a suggéré { $program }. Si vous voulez en recevoir les détails ou de l'aide pour y aller, répondez à ce message.
