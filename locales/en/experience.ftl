exp-heard = Two last questions about your follow-up. Did you feel your navigator listened to what matters to you? Reply YES or NO.
exp-recommend = Would you recommend this kind of support to someone like you? Reply YES or NO.
exp-thanks = Thank you. Your answers help us do better.
