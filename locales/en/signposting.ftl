sp-details = Your navigator suggested { $program }. If you would like its details again, or help to get there, reply to this message.
