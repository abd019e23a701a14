"""Push providers: one module each (APNs, FCM, Web Push) behind the :class:`~.base.Provider` protocol."""
