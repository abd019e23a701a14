"""The notifications service: wakes a recipient's sleeping devices through APNs, FCM and Web Push."""
