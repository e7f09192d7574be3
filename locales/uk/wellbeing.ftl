# ONS4, особисте благополуччя.
wellbeing-intro = Чотири питання про ваше самопочуття, від 0 (зовсім ні) до 10 (повністю). Читаємо в робочий час; криза: 9-8-8 або 911.
# ONS4: project translation, pending validation.
ons4-satisfied = Загалом, наскільки ви задоволені своїм життям зараз? (0-10)
# ONS4: project translation, pending validation.
ons4-worthwhile = Загалом, наскільки ви відчуваєте, що те, що ви робите в житті, варте того? (0-10)
# ONS4: project translation, pending validation.
ons4-happy = Загалом, наскільки щасливими ви почувалися вчора? (0-10)
# ONS4: project translation, pending validation.
ons4-anxious = 0 — "зовсім не тривожно", 10 — "дуже тривожно". Загалом, наскільки тривожно вам було вчора?
