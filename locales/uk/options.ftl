# Варіанти відповіді: підпис і `.synonyms`, які клієнт може написати (також російською).
# Регістр, наголоси, розділові знаки й емодзі не важать; числа працюють завжди.

opt-yes = Так
    .synonyms = так, звісно, звичайно, добре, гаразд, авжеж, ок, да, конечно, 👍
opt-no = Ні
    .synonyms = ні, ні дякую, нет, не треба
opt-not-yet = Ще ні
    .synonyms = ще ні, поки ні, незабаром, пізніше, еще нет, пока нет

# UCLA-3 і ONS.
opt-hardly-ever = Майже ніколи
    .synonyms = рідко, майже ні, почти никогда, редко
opt-some-of-the-time = Іноді
    .synonyms = часом, інколи, иногда, деколи
opt-often = Часто
    .synonyms = завжди, постійно, дуже часто, всегда
opt-often-always = Часто/завжди
    .synonyms = часто, завжди, постійно, всегда
opt-occasionally = Зрідка
    .synonyms = зрідка, подеколи, время от времени
opt-never = Ніколи
    .synonyms = ніколи, зовсім ні, никогда

# Час дня.
opt-morning = Ранок
    .synonyms = вранці, зранку, утром, утро
opt-afternoon = День
    .synonyms = вдень, після обіду, днем, день
opt-evening = Вечір
    .synonyms = ввечері, увечері, вечером, вечер
opt-any-time = Будь-коли
    .synonyms = будь коли, неважливо, все одно, в любое время

# Що зараз найважливіше.
opt-lonely = Самотність
    .synonyms = самотньо, самотній, самотня, одиночество
opt-bored = Нудьга
    .synonyms = нудно, скука
opt-disconnected = Ізоляція
    .synonyms = відчуженість, відірваність, ізольований, ізольована
opt-making-ends-meet = Гроші
    .synonyms = грошей не вистачає, рахунки, деньги
opt-housing = Житло
    .synonyms = квартира, оренда, жилье
opt-work = Робота
    .synonyms = немає роботи, робота, работа
opt-sad = Смуток
    .synonyms = сумно, сум, грусть
opt-no-one-to-rely-on = Немає опори
    .synonyms = нема на кого покластися, нікого, никого
opt-getting-older = Старіння
    .synonyms = вік, старість, возраст
opt-other = Інше
    .synonyms = щось інше, другое

# Що завадило.
opt-transport = Транспорт
    .synonyms = автобус, немає машини, далеко, дорога
opt-cost = Вартість
    .synonyms = дорого, ціна, гроші, платно
opt-not-up-to-it = Не було сил
    .synonyms = втомився, втомилася, хворів, хворіла, погано почувався, погано почувалася
opt-not-welcome = Не відчув(ла) гостинності
    .synonyms = не вітали, незатишно, чужим, чужою
opt-timing = Час
    .synonyms = не було часу, зайнятий, зайнята, розклад, время

# Належність до громади.
opt-very-strong = Дуже сильне
    .synonyms = дуже сильна
opt-somewhat-strong = Досить сильне
    .synonyms = сильне, досить сильна
opt-somewhat-weak = Досить слабке
    .synonyms = слабке, досить слабка
opt-very-weak = Дуже слабке
    .synonyms = дуже слабка

# Психічне здоров'я.
opt-excellent = Відмінне
    .synonyms = відмінно, чудове
opt-very-good = Дуже добре
    .synonyms = дуже гарне
opt-good = Добре
    .synonyms = гарне, нормальне, нормально
opt-fair = Задовільне
    .synonyms = так собі, середнє
opt-poor = Погане
    .synonyms = погано, кепське, плохое

# How are things (holistic check-in).
opt-well = Добре
opt-so-so = Так собі
opt-not-well = Погано
