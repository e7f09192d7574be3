# UCLA 3-ਸਵਾਲਾਂ ਵਾਲਾ ਇਕੱਲਤਾ ਪੈਮਾਨਾ (Hughes et al. 2004) ਅਤੇ ONS ਦਾ ਸਿੱਧਾ ਸਵਾਲ।
loneliness-intro = ਤੁਸੀਂ ਕਿਵੇਂ ਮਹਿਸੂਸ ਕਰ ਰਹੇ ਹੋ, ਇਸ ਬਾਰੇ ਕੁਝ ਸਵਾਲ। ਜਵਾਬ ਦਾ ਨੰਬਰ ਭੇਜੋ। ਸੰਕਟ ਵਿੱਚ: 9-8-8 ਜਾਂ 911।
# UCLA-3: project translation, pending validation.
ucla3-companionship = ਤੁਹਾਨੂੰ ਕਿੰਨੀ ਵਾਰ ਲੱਗਦਾ ਹੈ ਕਿ ਤੁਹਾਡੇ ਕੋਲ ਸਾਥ ਦੀ ਕਮੀ ਹੈ?
# UCLA-3: project translation, pending validation.
ucla3-left-out = ਤੁਹਾਨੂੰ ਕਿੰਨੀ ਵਾਰ ਲੱਗਦਾ ਹੈ ਕਿ ਤੁਹਾਨੂੰ ਅਣਗੌਲਿਆ ਕੀਤਾ ਗਿਆ ਹੈ?
# UCLA-3: project translation, pending validation.
ucla3-isolated = ਤੁਹਾਨੂੰ ਕਿੰਨੀ ਵਾਰ ਲੱਗਦਾ ਹੈ ਕਿ ਤੁਸੀਂ ਦੂਜਿਆਂ ਤੋਂ ਕੱਟੇ ਹੋਏ ਹੋ?
# ONS direct question: project translation, pending validation.
ons-lonely = ਤੁਸੀਂ ਕਿੰਨੀ ਵਾਰ ਇਕੱਲਾਪਣ ਮਹਿਸੂਸ ਕਰਦੇ ਹੋ?
