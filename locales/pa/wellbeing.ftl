# ONS4 ਨਿੱਜੀ ਤੰਦਰੁਸਤੀ।
wellbeing-intro = ਤੁਹਾਡੀ ਤੰਦਰੁਸਤੀ ਬਾਰੇ ਚਾਰ ਸਵਾਲ, 0 (ਬਿਲਕੁਲ ਨਹੀਂ) ਤੋਂ 10 (ਪੂਰੀ ਤਰ੍ਹਾਂ)। ਸੰਕਟ ਵਿੱਚ: 9-8-8 ਜਾਂ 911।
# ONS4: project translation, pending validation.
ons4-satisfied = ਕੁੱਲ ਮਿਲਾ ਕੇ, ਤੁਸੀਂ ਅੱਜਕੱਲ੍ਹ ਆਪਣੀ ਜ਼ਿੰਦਗੀ ਤੋਂ ਕਿੰਨੇ ਸੰਤੁਸ਼ਟ ਹੋ? (0-10)
# ONS4: project translation, pending validation.
ons4-worthwhile = ਕੁੱਲ ਮਿਲਾ ਕੇ, ਤੁਹਾਨੂੰ ਕਿੰਨਾ ਲੱਗਦਾ ਹੈ ਕਿ ਜ਼ਿੰਦਗੀ ਵਿੱਚ ਜੋ ਤੁਸੀਂ ਕਰਦੇ ਹੋ ਉਹ ਸਾਰਥਕ ਹੈ? (0-10)
# ONS4: project translation, pending validation.
ons4-happy = ਕੁੱਲ ਮਿਲਾ ਕੇ, ਕੱਲ੍ਹ ਤੁਸੀਂ ਕਿੰਨੇ ਖੁਸ਼ ਸੀ? (0-10)
# ONS4: project translation, pending validation.
ons4-anxious = 0 "ਬਿਲਕੁਲ ਚਿੰਤਤ ਨਹੀਂ" ਅਤੇ 10 "ਪੂਰੀ ਤਰ੍ਹਾਂ ਚਿੰਤਤ", ਕੁੱਲ ਮਿਲਾ ਕੇ ਕੱਲ੍ਹ ਤੁਸੀਂ ਕਿੰਨੇ ਚਿੰਤਤ ਸੀ?
