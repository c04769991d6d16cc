from django import forms


class NotificationForm(forms.Form):
    message = forms.CharField(max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))
    title = forms.CharField(max_length=200, required=False)


class WelcomeForm(forms.Form):
    # A CharField, not an EmailField: an address without "@" reaches the task,
    # which fails with its own error class (welcome.WelcomeError).
    user_email = forms.CharField(max_length=254, label="Email")
    username = forms.CharField(max_length=150)
