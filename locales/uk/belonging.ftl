# Питання Канадського опитування про здоров'я громад (CCHS).
belonging-intro = Два короткі питання про вашу громаду і здоров'я. Читаємо в робочий час; криза: 9-8-8 або 911.
# CCHS: project translation, pending validation.
cchs-belonging = Як би ви описали своє відчуття належності до місцевої громади? Воно:
# CCHS: project translation, pending validation.
cchs-mental-health = Загалом, ваше психічне здоров'я:
