hat-how = Kumusta po kayo nitong mga araw? Sumagot ng numero:
hat-thanks = Salamat sa pagsabi sa amin. Narito kami kung kailangan ninyo kami.
