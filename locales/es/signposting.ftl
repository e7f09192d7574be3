sp-details = Su intervenor/a le sugirió { $program }. Para los detalles o ayuda para llegar, responda a este mensaje.
