# Шкала самотності UCLA з 3 питань (Hughes et al. 2004) і пряме питання ONS.
loneliness-intro = Кілька питань про ваше самопочуття. Надішліть номер відповіді. Читаємо в робочий час; криза: 9-8-8 або 911.
# UCLA-3: project translation, pending validation.
ucla3-companionship = Як часто ви відчуваєте, що вам бракує товариства?
# UCLA-3: project translation, pending validation.
ucla3-left-out = Як часто ви почуваєтеся осторонь?
# UCLA-3: project translation, pending validation.
ucla3-isolated = Як часто ви почуваєтеся ізольованими від інших?
# ONS direct question: project translation, pending validation.
ons-lonely = Як часто ви почуваєтеся самотніми?
